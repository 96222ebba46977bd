package comfyui

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// Graph is a workflow in ComfyUI's API format: node id → node. An input is a literal value or
// a Link to another node's output.
type Graph map[string]Node

// Node is one node of a Graph.
type Node struct {
	ClassType string         `json:"class_type"`
	Inputs    map[string]any `json:"inputs"`
}

// Link is an input taken from output Output of node Node; it is written as ["node", output].
type Link struct {
	Node   string
	Output int
}

// MarshalJSON writes the link as ComfyUI does.
func (l Link) MarshalJSON() ([]byte, error) { return json.Marshal([]any{l.Node, l.Output}) }

// builder adds nodes with increasing ids.
type builder struct {
	g    Graph
	next int
}

func newBuilder() *builder { return &builder{g: Graph{}, next: 1} }

// add adds a node and returns its id.
func (b *builder) add(class string, inputs map[string]any) string {
	id := strconv.Itoa(b.next)
	b.next++
	b.g[id] = Node{ClassType: class, Inputs: inputs}
	return id
}

func out(node string, i int) Link { return Link{Node: node, Output: i} }

// ids returns the graph's node ids in numeric order, for stable iteration.
func (g Graph) ids() []string {
	ids := make([]string, 0, len(g))
	for id := range g {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.Atoi(ids[i])
		b, _ := strconv.Atoi(ids[j])
		return a < b
	})
	return ids
}

// Classes returns the node classes the graph uses, sorted.
func (g Graph) Classes() []string {
	var out []string
	for _, n := range g {
		if !slices.Contains(out, n.ClassType) {
			out = append(out, n.ClassType)
		}
	}
	slices.Sort(out)
	return out
}

// nodeOf returns the first node of a class, in id order (for tests and checks).
func (g Graph) nodeOf(class string) (string, Node, bool) {
	for _, id := range g.ids() {
		if g[id].ClassType == class {
			return id, g[id], true
		}
	}
	return "", Node{}, false
}

func (g Graph) String() string {
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Sprintf("graph: %v", err)
	}
	return string(b)
}
