// Package guide holds the four daemons of the ECS developer guide as a daemongen spec, in
// CUE (cue/) and HCL (hcl/), and their register-ready output (out/). `go generate
// ./examples/guide` regenerates the output, as a go:generate hook in any package would.
package guide

//go:generate go run github.com/daemongen/daemongen/cmd/daemongen generate -q -o out cue
