package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the profiles named by the environment, for
// measuring a command as users run it (bench/ uses them):
//
//	LETTERBOX_CPUPROFILE=FILE   CPU profile of the whole command
//	LETTERBOX_MEMPROFILE=FILE   heap profile (in-use and allocated) at its end
//
// The returned func writes and closes them; problems are printed to
// stderr and never change the command's outcome.
func startProfiles(getenv func(string) string, stderr io.Writer) func() {
	var stops []func()
	if path := getenv("LETTERBOX_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "letterbox: cpu profile: %v\n", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := getenv("LETTERBOX_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(stderr, "letterbox: memory profile: %v\n", err)
			}
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
