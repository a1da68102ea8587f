package cfntemplate

import "go.yaml.in/yaml/v3"

// Node returns the YAML key and value nodes at path (mapping keys from the
// top of the template, e.g. "Resources", id, "Properties", name), so that a
// problem found in an evaluated value can be reported at the line a user
// opens. Both are nil when the path is not in the template.
func (t *Template) Node(path ...string) (key, value *yaml.Node) {
	value = t.root
	for _, k := range path {
		if value == nil || value.Kind != yaml.MappingNode {
			return nil, nil
		}
		key, value = mappingEntry(value, k)
	}
	return key, value
}

func mappingEntry(n *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}
