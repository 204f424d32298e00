package cache

import (
	"fmt"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// Snapshot is the cluster as one scheduling cycle sees it. It is written
// only by [Cache.UpdateSnapshot], between cycles.
type Snapshot struct {
	nodeInfoMap  map[string]*framework.NodeInfo
	nodeInfoList []*framework.NodeInfo
	generation   int64
	nodeSetGen   int64
}

var _ framework.NodeInfoLister = (*Snapshot)(nil)

// NewEmptySnapshot returns a snapshot to be filled by UpdateSnapshot.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{nodeInfoMap: map[string]*framework.NodeInfo{}}
}

// NewSnapshot returns a snapshot of the given nodes, for tests.
func NewSnapshot(nodes ...*framework.NodeInfo) *Snapshot {
	s := NewEmptySnapshot()
	for _, n := range nodes {
		s.nodeInfoMap[n.Name()] = n
		s.nodeInfoList = append(s.nodeInfoList, n)
	}
	return s
}

// List returns the nodes in a stable order.
func (s *Snapshot) List() []*framework.NodeInfo { return s.nodeInfoList }

// Get returns the named node.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, error) {
	if ni, ok := s.nodeInfoMap[name]; ok && ni.Node() != nil {
		return ni, nil
	}
	return nil, fmt.Errorf("node %q not found", name)
}

// NumNodes is the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.nodeInfoList) }
