package selectorspread

import "k8s.io/apimachinery/pkg/selection"

func selectionOp(op string) selection.Operator { return selection.Operator(op) }
