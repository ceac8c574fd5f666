package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUsageErrorsExit2: on every command, a wrong number of arguments or an
// unknown subcommand is a usage error (exit 2) that shows the usage line,
// and an unknown subcommand gets the nearest one suggested.
func TestUsageErrorsExit2(t *testing.T) {
	root := newRootCommand()
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		path := strings.Fields(c.CommandPath())[1:]
		var args []string
		switch {
		case c.HasSubCommands() && c.Args(c, []string{"x-unknown"}) != nil:
			// A subcommand one letter off, where no argument is taken.
			sub := c.Commands()[0].Name()
			args = append(append([]string{}, path...), sub[:len(sub)-1]+"x")
			if _, _, err := surge(t, args...); !isUsage(err) || !strings.Contains(err.Error(), "did you mean") {
				t.Errorf("surge %v = %v; want a usage error with a suggestion", args, err)
			}
			checked++
		case c.Runnable() && c.Args != nil && c.Args(c, nil) != nil:
			// Needs arguments: none given.
			args = path
			if _, _, err := surge(t, args...); !isUsage(err) || !strings.Contains(err.Error(), "usage: surge") {
				t.Errorf("surge %v = %v; want a usage error with the usage line", args, err)
			}
			checked++
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
	}
	walk(root)
	// Too many arguments for a command that takes none.
	for _, args := range [][]string{{"replay", "extra"}, {"demo", "extra"}, {"version", "extra"}} {
		if _, _, err := surge(t, args...); !isUsage(err) {
			t.Errorf("surge %v = %v; want a usage error", args, err)
		}
	}
	// A subcommand misspelt where files are taken.
	if _, _, err := surge(t, "report", "compar", "a", "b"); !isUsage(err) || !strings.Contains(err.Error(), "did you mean surge report compare") {
		t.Errorf("surge report compar a b = %v; want a usage error suggesting surge report compare", err)
	}
	if checked < 8 {
		t.Errorf("checked %d commands; want every parent and every command that needs arguments", checked)
	}
}

// isUsage reports whether err exits 2.
func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == exitUsage
}
