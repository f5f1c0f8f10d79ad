//go:build !linux

package main

import "os/exec"

// tieToParent does nothing where the system cannot signal a child when its parent dies.
func tieToParent(*exec.Cmd) {}
