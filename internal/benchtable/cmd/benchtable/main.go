// Command benchtable prints the rows that `make bench` gathered (a file of
// benchtable.Row lines, the first argument) as one Markdown table, then
// names the goals missed. It exits 1 when a measurement is broken (a ratio
// below the floor's): such a table cannot be read. A missed goal is a
// result, printed as such.
package main

import (
	"fmt"
	"os"

	"smcallbacks/internal/benchtable"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtable ROWS_FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	rows, err := benchtable.Read(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println()
	benchtable.Print(os.Stdout, rows)
	fmt.Println()
	var missed, broken []string
	for _, r := range rows {
		switch {
		case r.Broken():
			broken = append(broken, r.Case)
		case r.HasGoal() && !r.Met():
			missed = append(missed, r.Case)
		}
	}
	for _, c := range missed {
		fmt.Printf("goal missed: %s\n", c)
	}
	if len(broken) > 0 {
		for _, c := range broken {
			fmt.Printf("broken measurement (faster than its floor): %s\n", c)
		}
		os.Exit(1)
	}
	if len(missed) == 0 {
		fmt.Printf("every goal met (%d rows)\n", len(rows))
	}
}
