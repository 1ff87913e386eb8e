package config

import (
	"fmt"
	"strconv"
)

// ProcessNames returns the names of p's processes, in order. With
// numprocs 1 the only process is named like the program ("web"). With N > 1
// they are "web:web_00" … numbered from 0 and zero-padded to at least two
// digits, wider when N-1 needs more, so that names sort in numeric order.
func (p *Program) ProcessNames() []string {
	if p.NumProcs <= 1 {
		return []string{p.Name}
	}
	width := max(2, len(strconv.Itoa(p.NumProcs-1)))
	names := make([]string, p.NumProcs)
	for i := range names {
		names[i] = fmt.Sprintf("%s:%s_%0*d", p.Name, p.Name, width, i)
	}
	return names
}

// Names returns every process name of every program, programs in file
// order.
func (c *Config) Names() []string {
	var names []string
	for _, name := range c.Order {
		names = append(names, c.Programs[name].ProcessNames()...)
	}
	return names
}
