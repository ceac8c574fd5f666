package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// config binds flags, a YAML file and SURGE_* environment variables to one
// set of keys ("import.strict", "scrub.key"). Precedence: flag, environment,
// file, default.
type config struct {
	file  string
	v     *viper.Viper
	flags map[string]*pflag.Flag    // key → the flag bound to it, for checkValues
	owner map[string]*cobra.Command // key → the command of that flag
}

func newConfig() *config {
	v := viper.New()
	v.SetEnvPrefix("SURGE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	return &config{v: v, flags: map[string]*pflag.Flag{}, owner: map[string]*cobra.Command{}}
}

func (c *config) load() error {
	if c.file != "" {
		c.v.SetConfigFile(c.file)
		if err := c.v.ReadInConfig(); err != nil {
			return fmt.Errorf("config %s: %w", c.file, err)
		}
	}
	lines := map[string]int{}
	errs := c.checkKeys(lines)
	errs = append(errs, c.checkValues(lines)...)
	if len(errs) > 0 {
		return &exitError{exitUsage, errors.Join(errs...)}
	}
	return nil
}

// bind ties flag name of cmd to key, so the key's value comes from the flag
// when set, else the environment or file.
func (c *config) bind(cmd *cobra.Command, key, flag string) {
	f := cmd.Flags().Lookup(flag)
	if f == nil {
		f = cmd.PersistentFlags().Lookup(flag)
	}
	if f == nil {
		panic("no flag " + flag)
	}
	if err := c.v.BindPFlag(key, f); err != nil {
		panic(err)
	}
	c.flags[key] = f
	c.owner[key] = cmd
}

// bindAll binds every flag of cmd under section ("import.strict"), except
// those in skip.
func (c *config) bindAll(cmd *cobra.Command, section string, skip ...string) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		for _, s := range skip {
			if s == f.Name {
				return
			}
		}
		c.bind(cmd, section+"."+strings.ReplaceAll(f.Name, "-", "_"), f.Name)
	})
}
