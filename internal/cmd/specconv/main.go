// Command specconv converts the AI Horde's Swagger 2.0 document into the repaired, validated
// OpenAPI 3 document that gen/ is generated from. It prints one line per fix-up with the number
// of places it changed.
//
//	specconv -in api/swagger.json -out api/openapi.yaml [-strict] [-check]
//
// With -strict, a fix-up that changes nothing is an error (upstream fixed that defect). With
// -check, nothing is written: the command fails if the output file differs from what it would
// write.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/horde-go/horde/internal/specconv"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "specconv:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("specconv", flag.ContinueOnError)
	in := fs.String("in", "api/swagger.json", "the upstream Swagger 2.0 document")
	out := fs.String("out", "api/openapi.yaml", "where to write the OpenAPI 3 document")
	strict := fs.Bool("strict", false, "fail when a fix-up changes nothing")
	check := fs.Bool("check", false, "write nothing; fail if -out is not what would be written")
	quiet := fs.Bool("q", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return err
	}
	src, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	res, err := specconv.Convert(ctx, src, specconv.Options{Strict: *strict})
	if err != nil {
		return err
	}
	if !*quiet {
		for _, r := range res.Reports {
			fmt.Fprintf(stdout, "%-32s item %2d  %4d change(s)\n", r.Name, r.Defect, r.Changes)
		}
	}
	if *check {
		have, err := os.ReadFile(*out)
		if err != nil {
			return err
		}
		if !bytes.Equal(have, res.YAML) {
			return fmt.Errorf("%s is stale: run `go generate ./...` to convert %s again", *out, *in)
		}
		return nil
	}
	return os.WriteFile(*out, res.YAML, 0o644)
}
