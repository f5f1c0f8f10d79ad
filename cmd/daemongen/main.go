// Command daemongen generates register-ready ECS daemon task definitions from CUE specs
// with shared defaults and per-environment overlays. See the README for the spec language.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
