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
//
// load decodes them all into s, the typed settings the commands read
// (config_settings.go), through one strict decoder (config_decode.go).
type config struct {
	file  string
	v     *viper.Viper
	s     *settings                 // decoded by load
	lines map[string]int            // key → its line in the file, for errors
	flags map[string]*pflag.Flag    // key → the flag bound to it
	owner map[string]*cobra.Command // key → the command of that flag
}

func newConfig() *config {
	v := viper.New()
	v.SetEnvPrefix("SURGE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	// Every key has its variable, flag or not (scrub.key has none).
	for _, key := range settingKeys() {
		if err := v.BindEnv(key); err != nil {
			panic(err)
		}
	}
	return &config{v: v, flags: map[string]*pflag.Flag{}, owner: map[string]*cobra.Command{}}
}

func (c *config) load() error {
	if c.file != "" {
		c.v.SetConfigFile(c.file)
		if err := c.v.ReadInConfig(); err != nil {
			// viper wraps the parser's message (with its line) in "While
			// parsing config: "; the file name says that already.
			msg := strings.TrimPrefix(err.Error(), "While parsing config: ")
			return &exitError{exitUsage, fmt.Errorf("config %s: %s", c.file, msg)}
		}
	}
	c.lines = map[string]int{}
	errs := c.checkEnv()
	var shape []error
	if c.file != "" {
		shape = c.indexFile()
		errs = append(errs, shape...)
	}
	if len(shape) == 0 { // a file of the wrong shape decodes to nonsense
		var derrs []error
		c.s, derrs = c.decode()
		errs = append(errs, derrs...)
	}
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
	// The command's own flags: at run time Flags() holds the inherited
	// ones too (--config, --help).
	cmd.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		for _, s := range skip {
			if s == f.Name {
				return
			}
		}
		c.bind(cmd, section+"."+strings.ReplaceAll(f.Name, "-", "_"), f.Name)
	})
}
