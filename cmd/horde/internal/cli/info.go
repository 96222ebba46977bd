package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
)

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (a *app) modelsCommand() *cobra.Command {
	var kind string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models that workers serve, with their queues",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind != "image" && kind != "text" {
				return usagef("--type must be image or text, not %q", kind)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			models, err := c.Models(cmd.Context(), &gen.GetModelsParams{Type: &kind})
			if err != nil {
				return err
			}
			slices.SortFunc(models, func(x, y gen.ActiveModel) int { return cmp.Compare(val(x.Name), val(y.Name)) })
			if asJSON {
				return printJSON(cmd, models)
			}
			if len(models) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no %s model is served right now\n", kind)
				return nil
			}
			tw := table(cmd.OutOrStdout())
			fmt.Fprintln(tw, "MODEL\tWORKERS\tQUEUED\tJOBS\tETA\tPERFORMANCE")
			for _, m := range models {
				fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%ds\t%.1f\n", val(m.Name), val(m.Count), val(m.Queued), val(m.Jobs), val(m.Eta), val(m.Performance))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&kind, "type", "t", "image", "image or text")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) userCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "user [NAME#ID|ID|NAME]",
		Short: "Show a user: yourself (the API key's) by default",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var u *gen.UserDetails
			if len(argv) == 0 {
				u, err = c.FindUser(cmd.Context())
			} else {
				u, err = findUser(cmd, c, argv[0])
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, u)
			}
			tw := table(cmd.OutOrStdout())
			fmt.Fprintf(tw, "User:\t%s\n", val(u.Username))
			fmt.Fprintf(tw, "ID:\t%d\n", val(u.ID))
			fmt.Fprintf(tw, "Kudos:\t%.0f\n", val(u.Kudos))
			fmt.Fprintf(tw, "Trusted:\t%s\n", yesNo(val(u.Trusted)))
			fmt.Fprintf(tw, "Moderator:\t%s\n", yesNo(val(u.Moderator)))
			fmt.Fprintf(tw, "Workers:\t%d\n", val(u.WorkerCount))
			fmt.Fprintf(tw, "Concurrency:\t%d\n", val(u.Concurrency))
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// findUser finds a user by id, by alias (name#id), or by name among the first pages of users.
func findUser(cmd *cobra.Command, c *horde.Client, who string) (*gen.UserDetails, error) {
	id := who
	if _, after, ok := strings.Cut(who, "#"); ok {
		id = after
	}
	if n, err := strconv.Atoi(id); err == nil {
		return c.User(cmd.Context(), n)
	}
	for page := 1; page <= 20; page++ {
		users, err := c.Users(cmd.Context(), &gen.GetUsersParams{Page: &page})
		if err != nil {
			return nil, err
		}
		for i := range users {
			if strings.HasPrefix(val(users[i].Username), who+"#") {
				return &users[i], nil
			}
		}
		if len(users) < 25 {
			break
		}
	}
	return nil, fmt.Errorf("no user named %q: give the alias name#id or the id", who)
}

func (a *app) workersCommand() *cobra.Command {
	var kind, name string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "workers",
		Short: "List the workers online",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := &gen.GetWorkersParams{}
			switch kind {
			case "":
			case "image", "text", "interrogation":
				p.Type = &kind
			case "alchemy":
				k := "interrogation"
				p.Type = &k
			default:
				return usagef("--type must be image, text or alchemy, not %q", kind)
			}
			if name != "" {
				p.Name = &name
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ws, err := c.Workers(cmd.Context(), p)
			if err != nil {
				return err
			}
			slices.SortFunc(ws, func(x, y gen.WorkerDetails) int { return cmp.Compare(val(x.Name), val(y.Name)) })
			if asJSON {
				return printJSON(cmd, ws)
			}
			if len(ws) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no worker is online")
				return nil
			}
			tw := table(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tTYPE\tONLINE\tTRUSTED\tTHREADS\tMODELS\tREQUESTS\tKUDOS")
			for _, w := range ws {
				models := strings.Join(w.Models, ",")
				if len(w.Models) > 3 {
					models = fmt.Sprintf("%s and %d more", strings.Join(w.Models[:3], ","), len(w.Models)-3)
				}
				if models == "" {
					models = strings.Join(w.Forms, ",")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%.0f\n", val(w.Name), val(w.Type), yesNo(val(w.Online)),
					yesNo(val(w.Trusted)), val(w.Threads), models, val(w.RequestsFulfilled), val(w.KudosRewards))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&kind, "type", "t", "", "image, text or alchemy (default: all)")
	cmd.Flags().StringVar(&name, "name", "", "only the worker with this name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// statusOutput is the JSON output of the status command.
type statusOutput struct {
	Heartbeat   *gen.Heartbeat        `json:"heartbeat"`
	Performance *gen.HordePerformance `json:"performance"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the Horde's version, queues and workers",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			hb, err := c.Heartbeat(cmd.Context())
			if err != nil {
				return err
			}
			perf, err := c.Performance(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, statusOutput{Heartbeat: hb, Performance: perf})
			}
			tw := table(cmd.OutOrStdout())
			fmt.Fprintf(tw, "Horde:\t%s (version %s)\n", c.BaseURL(), val(hb.Version))
			fmt.Fprintf(tw, "Image workers:\t%d (%d threads)\n", val(perf.WorkerCount), val(perf.ThreadCount))
			fmt.Fprintf(tw, "Text workers:\t%d (%d threads)\n", val(perf.TextWorkerCount), val(perf.TextThreadCount))
			fmt.Fprintf(tw, "Alchemists:\t%d (%d threads)\n", val(perf.InterrogatorCount), val(perf.InterrogatorThreadCount))
			fmt.Fprintf(tw, "Queued images:\t%d requests, %.0f megapixelsteps\n", val(perf.QueuedRequests), val(perf.QueuedMegapixelsteps))
			fmt.Fprintf(tw, "Queued texts:\t%d requests, %.0f tokens\n", val(perf.QueuedTextRequests), val(perf.QueuedTokens))
			fmt.Fprintf(tw, "Queued alchemy:\t%.0f forms\n", val(perf.QueuedForms))
			fmt.Fprintf(tw, "Past minute:\t%.0f megapixelsteps, %.0f tokens\n", val(perf.PastMinuteMegapixelsteps), val(perf.PastMinuteTokens))
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) kudosCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kudos",
		Short: "Manage kudos",
		Args:  args(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return usagef("kudos needs a sub-command: transfer") },
	}
	var to string
	var amount int
	var asJSON bool
	transfer := &cobra.Command{
		Use:     "transfer --to USER --amount N",
		Short:   "Give some of your kudos to another user",
		Example: "  horde kudos transfer --to alice#42 --amount 100",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usagef("--to is required: the receiver's alias, such as alice#42")
			}
			if amount <= 0 {
				return usagef("--amount must be a positive number of kudos")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.TransferKudos(cmd.Context(), to, amount)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "transferred %.0f kudos to %s\n", val(res.Transferred), to)
			return nil
		},
	}
	transfer.Flags().StringVar(&to, "to", "", "the receiver's alias (name#id)")
	transfer.Flags().IntVar(&amount, "amount", 0, "kudos to transfer")
	transfer.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(transfer)
	return cmd
}
