package docker

import "google.golang.org/protobuf/testing/protocmp"

var cmpProto = protocmp.Transform()
