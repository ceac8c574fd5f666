package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// usageArgs makes every argument error of c and its subcommands a usage
// error (exit 2) that shows the command's usage line: "requires at least
// 2 arg(s)" alone does not say which. A command without its own argument
// rule that has subcommands refuses an unknown one with a suggestion, as
// cobra does, but with exit 2.
func usageArgs(c *cobra.Command) {
	parentOnly := !c.Runnable() && c.HasSubCommands()
	if parentOnly {
		// cobra checks no arguments of a command that does not run: it
		// would print help for "surge replya" and exit 0.
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	}
	inner := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		var err error
		switch {
		case len(args) > 0 && parentOnly:
			err = fmt.Errorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), didYouMean(args[0], subcommands(cmd)))
		case inner != nil:
			err = inner(cmd, args)
			if err != nil && len(args) > 0 && cmd.HasSubCommands() {
				// "surge demo servx": the subcommand was meant.
				err = fmt.Errorf("%w%s", err, didYouMean(args[0], subcommands(cmd)))
			}
		}
		if err != nil {
			if cmd.HasParent() {
				err = fmt.Errorf("%s: %w", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), err)
			}
			use := cmd.UseLine()
			if parentOnly {
				use = cmd.CommandPath() + " COMMAND"
			}
			return &exitError{exitUsage, fmt.Errorf("%w\nusage: %s\nrun '%s --help' for more", err, use, cmd.CommandPath())}
		}
		return nil
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// subcommands returns the names of c's available subcommands.
func subcommands(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return names
}
