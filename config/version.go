package config

import "runtime/debug"

// Version is the version a codebridge binary reports: linked (set at
// build time with -ldflags "-X main.version=..."), else the module version
// go install recorded, else linked itself ("dev").
func Version(linked string) string {
	if linked != "dev" && linked != "" {
		return linked
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return linked
}
