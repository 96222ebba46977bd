// Package cli holds the commands of the horde tool. Run executes one command line in-process,
// so tests drive the commands exactly as a shell does, against the simulator of package
// hordetest.
//
// Libraries: github.com/spf13/cobra for the commands (sub-commands, POSIX flags, generated help
// and completion; the de-facto standard of Go CLIs, used by kubectl, hugo and gh) and
// github.com/schollz/progressbar/v3 for progress on a terminal (thread-safe, writes to any
// io.Writer, throttled redraws, no dependencies beyond x/term). Tables use text/tabwriter.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// Exit codes of Run.
const (
	ExitOK      = 0 // the command succeeded
	ExitFailure = 1 // the command failed (the Horde refused, a request faulted, interrupted, …)
	ExitUsage   = 2 // the command line is wrong (unknown command or flag, invalid value)
)

// Env is what a command sees of its process: standard streams and environment.
type Env struct {
	// Stdin, Stdout and Stderr are the standard streams. Results go to Stdout; progress,
	// status lines and errors to Stderr.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads an environment variable (AI_HORDE_URL, AI_HORDE_API_KEY); nil reads none.
	Getenv func(string) string
	// Terminal says Stderr is a terminal: progress is drawn as a bar, not as plain lines.
	Terminal bool
	// Abort is closed when the user asks to stop at once (a second Ctrl-C): a worker then
	// reports its running jobs faulted instead of letting them finish. Nil never closes.
	Abort <-chan struct{}
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Terminal: isTerminal(os.Stderr)}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Run executes the command line args (without the program name) and returns the exit code:
// ExitOK, ExitFailure or ExitUsage. When ctx ends (Ctrl-C), a waiting generation is cancelled
// on the Horde, a worker drains and the simulator stops, before Run returns.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	a := &app{env: env}
	root := a.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		path := "horde"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(env.Stderr, "horde: %s\nRun '%s --help' for usage.\n", strings.TrimPrefix(err.Error(), "horde: "), path)
		return ExitUsage
	}
	fmt.Fprintln(env.Stderr, "horde: "+describe(err))
	return ExitFailure
}

// usageError is a wrong command line: exit code 2 and a pointer to the help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// isCobraUsage recognises the argument errors cobra makes itself.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "required flag", "flag needs", "invalid argument", "accepts ", "requires at least", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// args wraps a cobra argument check so that its errors are usage errors.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return &usageError{err}
		}
		return nil
	}
}

// app holds the global flags of one Run.
type app struct {
	env     Env
	url     string
	apiKey  string
	agent   string
	timeout time.Duration
	verbose bool
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "horde",
		Short: "Use the AI Horde from the command line, run a worker, or run the whole Horde locally",
		Long: `horde talks to an AI Horde (https://aihorde.net by default): it generates images, texts and
alchemy, shows models, users, workers and the Horde's status, transfers kudos, runs a worker, and
serves a local simulator of the Horde.

Start with 'horde demo': a Horde, a worker and a client, on this machine, in a few seconds.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.url, "url", "", "the Horde's API URL (default $AI_HORDE_URL, else "+horde.DefaultBaseURL+")")
	pf.StringVar(&a.apiKey, "api-key", "", "your API key (default $AI_HORDE_API_KEY, else the anonymous key); never printed")
	pf.StringVar(&a.agent, "client-agent", "", "the Client-Agent header (default "+horde.DefaultClientAgent()+")")
	pf.DurationVar(&a.timeout, "timeout", 0, "timeout of each HTTP request (0: the client's default)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log every request and event to stderr")
	root.AddCommand(a.demoCommand(), a.imageCommand(), a.textCommand(), a.interrogateCommand(),
		a.modelsCommand(), a.userCommand(), a.workersCommand(), a.statusCommand(), a.kudosCommand(),
		a.workerCommand(), a.simCommand())
	return root
}

func (a *app) logger() *slog.Logger {
	if !a.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// baseURL is --url, else AI_HORDE_URL, else the public Horde.
func (a *app) baseURL() string {
	if a.url != "" {
		return a.url
	}
	if u := a.env.Getenv("AI_HORDE_URL"); u != "" {
		return u
	}
	return horde.DefaultBaseURL
}

// key is --api-key, else AI_HORDE_API_KEY, else the anonymous key.
func (a *app) key() string {
	if a.apiKey != "" {
		return a.apiKey
	}
	if k := a.env.Getenv("AI_HORDE_API_KEY"); k != "" {
		return k
	}
	return horde.AnonymousAPIKey
}

func (a *app) client() (*horde.Client, error) {
	opts := []horde.Option{horde.WithBaseURL(a.baseURL()), horde.WithAPIKey(a.key()), horde.WithLogger(a.logger())}
	if a.agent != "" {
		opts = append(opts, horde.WithClientAgent(a.agent))
	}
	if a.timeout > 0 {
		opts = append(opts, horde.WithRequestTimeout(a.timeout))
	}
	c, err := horde.NewClient(opts...)
	if err != nil {
		// Option errors name the option, never the key's value.
		return nil, &usageError{err}
	}
	return c, nil
}

// describe turns an error into one line that says what went wrong and what to do.
func describe(err error) string {
	var ge *horde.GenerationError
	hasGE := errors.As(err, &ge)
	var ae *horde.APIError
	hasAE := errors.As(err, &ae)
	var opErr *net.OpError
	detail := func() string {
		if hasAE && ae.Message != "" {
			return ": " + ae.Message
		}
		return ""
	}
	switch {
	case errors.Is(err, horde.ErrUnauthorized):
		return "the Horde refused the API key (401 invalid API key): check --api-key or AI_HORDE_API_KEY (get a key at https://aihorde.net/register)"
	case hasGE && errors.Is(err, horde.ErrNotPossible):
		msg := fmt.Sprintf("no worker can serve this request (%s request %s, cancelled on the Horde)", ge.Kind, ge.ID)
		if ge.Message != "" {
			msg += ": " + ge.Message
		}
		msg += "; choose a model that workers serve ('horde models'), or pass --wait to wait for a worker"
		if ge.Kind == horde.KindText {
			msg += "; text requests go only to backends the Horde has validated unless you pass --any-backend" +
				" (horde-go workers, among others, are not validated)"
		}
		return msg
	case hasGE && errors.Is(err, horde.ErrFaulted):
		return fmt.Sprintf("%s request %s faulted on the Horde: try again, or with another model or worker", ge.Kind, ge.ID)
	case hasGE && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		state := "cancelled on the Horde"
		if !ge.Cancelled {
			state = "it may still run on the Horde"
		}
		return fmt.Sprintf("interrupted: %s request %s, %s", ge.Kind, ge.ID, state)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, horde.ErrKudosTooLow):
		return "not enough kudos" + detail() + ": lower the cost (size, steps, n), or earn kudos by running a worker ('horde worker')"
	case errors.Is(err, horde.ErrTooManyPrompts):
		return "too many requests queued for this account" + detail() + ": wait for some to finish"
	case errors.Is(err, horde.ErrRateLimited):
		return "rate limited by the Horde: wait a minute and try again"
	case errors.Is(err, horde.ErrMaintenance):
		return "the Horde is in maintenance mode" + detail() + ": try again later"
	case errors.Is(err, horde.ErrForbidden):
		return "the Horde refused this for your account (403)" + detail() + ": check that your key has the role it needs"
	case errors.Is(err, horde.ErrNotFound):
		return "not found (404)" + detail() + ": check the name or id"
	case errors.Is(err, horde.ErrValidation):
		if fe := fieldErrors(ae); fe != "" {
			return "the Horde refused the request as invalid" + fe + detail() + ": fix the values named"
		}
		return "the Horde refused the request" + detail()
	case errors.Is(err, horde.ErrServer):
		return "the Horde failed (" + fmt.Sprint(ae.StatusCode) + ")" + detail() + ": try again later"
	case errors.As(err, &opErr):
		return fmt.Sprintf("cannot reach the Horde (%v): check --url or AI_HORDE_URL and your network", opErr.Err)
	}
	return strings.TrimPrefix(err.Error(), "horde: ")
}

func fieldErrors(ae *horde.APIError) string {
	if ae == nil || len(ae.Errors) == 0 {
		return ""
	}
	var parts []string
	for f, m := range ae.Errors {
		parts = append(parts, f+": "+m)
	}
	sort.Strings(parts)
	return " [" + strings.Join(parts, "; ") + "]"
}

// paramsError makes a parameter validation failure a usage error: the flags are wrong.
func paramsError(err error) error {
	var vs params.Violations
	if errors.As(err, &vs) {
		return &usageError{fmt.Errorf("invalid parameters: %w", err)}
	}
	return err
}
