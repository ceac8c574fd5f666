package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// manifest is the part of a Kubernetes object the deploy test reads.
type manifest struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Data       map[string]string `yaml:"data"`
	Spec       struct {
		Replicas *int `yaml:"replicas"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	Containers []struct {
		Name string   `yaml:"name"`
		Args []string `yaml:"args"`
		Env  []struct {
			Name      string `yaml:"name"`
			ValueFrom *struct {
				ConfigMapKeyRef *struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"configMapKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
	} `yaml:"containers"`
}

// TestDeployManifests parses every YAML file under deploy/: each object is
// a kind the walkthrough names, the agent Deployment and the run Job run
// real surge subcommands with real flags, and every ConfigMap key they read
// exists.
func TestDeployManifests(t *testing.T) {
	var objs []manifest
	err := filepath.WalkDir("../../deploy", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var m manifest
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Errorf("%s: %v", path, err)
				break
			}
			if m.Kind == "" || m.APIVersion == "" {
				t.Errorf("%s: an object without kind or apiVersion", path)
			}
			objs = append(objs, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	data := map[string]map[string]string{}
	for _, m := range objs {
		kinds[m.Kind]++
		if m.Kind == "ConfigMap" {
			data["surge-fleet"] = m.Data
		}
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Job"} {
		if kinds[k] != 1 {
			t.Errorf("deploy/: %d objects of kind %s; want 1", kinds[k], k)
		}
	}
	want := map[string]string{"Deployment": "agent", "Job": "run start"}
	for _, m := range objs {
		sub, ok := want[m.Kind]
		if !ok {
			continue
		}
		if m.Kind == "Deployment" && (m.Spec.Replicas == nil || *m.Spec.Replicas < 1) {
			t.Errorf("Deployment: replicas (the fleet size) missing")
		}
		for _, c := range m.Spec.Template.Spec.Containers {
			checkArgs(t, m.Kind, c.Args, sub)
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.ConfigMapKeyRef
				if _, ok := data[ref.Name][ref.Key]; !ok {
					t.Errorf("%s: env %s reads ConfigMap %s key %s, which is not there", m.Kind, e.Name, ref.Name, ref.Key)
				}
			}
		}
	}
}

// checkArgs checks that args run surge's subcommand sub with flags it has.
func checkArgs(t *testing.T, kind string, args []string, sub string) {
	t.Helper()
	root, _ := newRoot()
	cmd, rest, err := root.Find(args)
	if err != nil {
		t.Errorf("%s: args %q: %v", kind, args, err)
		return
	}
	if got := strings.TrimPrefix(cmd.CommandPath(), root.Name()+" "); got != sub {
		t.Errorf("%s: args run %q; want %q", kind, got, sub)
	}
	for _, a := range rest {
		if !strings.HasPrefix(a, "--") {
			t.Errorf("%s: argument %q is not a --flag", kind, a)
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
			t.Errorf("%s: --%s is not a flag of surge %s", kind, name, sub)
		}
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: flags %q: %v", kind, rest, err)
	}
}
