package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// explain rewords kingpin's refusal of a word it could not place
// ("unexpected seat", "expected command but got \"plann\"", "unknown long
// flag '--frmat'") to say what was meant, from the commands and flags the
// app has; other errors are returned as they are.
func explain(app *kingpin.Application, args []string, err error) error {
	ctx, _ := app.ParseContext(args)
	if ctx == nil {
		return err
	}
	selected := ctx.SelectedCommand
	if ctx.EOL() {
		if selected == nil || len(selected.Model().Commands) == 0 {
			return err
		}
		m := selected.Model()
		return fmt.Errorf("%s needs one of its commands: %s", m.FullCommand, commandList(m.CmdGroupModel, m.FullCommand+" "))
	}
	token := ctx.Peek()
	switch {
	case token.Type == kingpin.TokenLong:
		flags := app.Model().Flags
		if selected != nil {
			flags = append(flags, selected.Model().Flags...)
		}
		names := make([]string, 0, len(flags))
		for _, f := range flags {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		}
		if name, ok := nearest(token.Value, names); ok {
			return fmt.Errorf("unknown flag --%s; did you mean --%s?", token.Value, name)
		}
		return fmt.Errorf("unknown flag --%s; see %s --help-long for the flags", token.Value, app.Name)
	case token.Type != kingpin.TokenArg:
		return err
	}
	// A bool flag takes no value: kingpin reads --bom=false as the flag
	// and then a stray word.
	if i := token.Index - 1; i >= 0 && i < len(args) && strings.HasPrefix(args[i], "--") && strings.Contains(args[i], "=") {
		name, _, _ := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		return fmt.Errorf("--%s takes no value: write --%s to turn it on, --no-%s to turn it off", name, name, name)
	}
	// The word is a command, but seats and the like take none: the
	// commands it may mean are the app's, or the selected group's (reclaim).
	group, prefix := app.Model().CmdGroupModel, ""
	if selected != nil && !selected.Model().Default {
		m := selected.Model()
		if len(m.Commands) == 0 {
			return fmt.Errorf("%s takes no argument, and %q is not a flag: see %s %s --help", m.FullCommand, token.Value, app.Name, m.FullCommand)
		}
		group, prefix = m.CmdGroupModel, m.FullCommand+" "
	}
	if name, ok := nearest(token.Value, commandNames(group)); ok {
		return fmt.Errorf("unknown command %q; did you mean %q?", prefix+token.Value, prefix+name)
	}
	return fmt.Errorf("unknown command %q; the commands are %s", prefix+token.Value, commandList(group, prefix))
}

// commandNames are the group's commands but hidden ones.
func commandNames(group *kingpin.CmdGroupModel) []string {
	names := make([]string, 0, len(group.Commands))
	for _, c := range group.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// commandList lists the group's commands, each after prefix (its group's
// name and a space, or nothing).
func commandList(group *kingpin.CmdGroupModel, prefix string) string {
	return prefix + strings.Join(commandNames(group), ", "+prefix)
}

// nearest returns the name that word most likely misspells or abbreviates:
// the only one that starts with it, or else the closest within a third of
// its length in edits.
func nearest(word string, names []string) (string, bool) {
	var starting []string
	best, bestDistance := "", len(word)/3+1
	for _, name := range names {
		if strings.HasPrefix(name, word) {
			starting = append(starting, name)
		}
		if d := distance(word, name); d < bestDistance {
			best, bestDistance = name, d
		}
	}
	if len(starting) == 1 && word != "" {
		return starting[0], true
	}
	return best, best != ""
}

// distance is the Levenshtein distance of a and b, in bytes.
func distance(a, b string) int {
	previous := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current := make([]int, len(b)+1)
		current[0] = i
		for j := 1; j <= len(b); j++ {
			substitute := previous[j-1]
			if a[i-1] != b[j-1] {
				substitute++
			}
			current[j] = min(previous[j]+1, current[j-1]+1, substitute)
		}
		previous = current
	}
	return previous[len(b)]
}

// checkMode is the server's flags' --config.check, which counts once and
// exits: a mode of its own in onlyFor.
const checkMode = "--config.check"

// counting are the modes that count seats with the token and the config.
var counting = []string{serveCommand, checkMode, seatsCommand, planCommand, applyCommand, undoCommand}

// onlyFor are the app's flags that some modes do not read, with the modes
// that do: given to another, such a flag would silently do nothing.
// oauth login reads --asana.url, the OAuth app's flags and the logging
// ones alone.
var onlyFor = map[string][]string{
	"config.file":            counting,
	"asana.token-file":       counting,
	"asana.audit-token-file": counting,
	"storage.path":           counting,
	"demo":                   counting,
	"organization":           counting,
	"asana.refresh-interval": {serveCommand, checkMode},
	"reclaim.journal":        {serveCommand, seatsCommand},
	"asana.timeout-offset":   {serveCommand},
	"web.telemetry-path":     {serveCommand},
	"web.listen-address":     {serveCommand},
	"web.config.file":        {serveCommand},
	"web.systemd-socket":     {serveCommand},
	pprofFlag:                {serveCommand},
}

// refuseUnread refuses the flags given on the command line (args) that the
// command does not read: --config.check with a command, and the flags of
// onlyFor given to a mode they are not for.
func refuseUnread(app *kingpin.Application, args []string, command string, configCheck bool) error {
	ctx, err := app.ParseContext(args)
	if err != nil {
		return err
	}
	mode := command
	switch {
	case configCheck && command != serveCommand:
		return fmt.Errorf("--config.check checks the server's configuration and does nothing with %s: leave it out, or give it without a command", command)
	case configCheck:
		mode = checkMode
	}
	var errs []error
	seen := map[string]bool{}
	for _, e := range ctx.Elements {
		flag, ok := e.Clause.(*kingpin.FlagClause)
		if !ok {
			continue
		}
		name := flag.Model().Name
		if modes, ok := onlyFor[name]; ok && !slices.Contains(modes, mode) && !seen[name] {
			seen[name] = true
			errs = append(errs, fmt.Errorf("--%s does nothing with %s; it is for %s: leave it out", name, modeName(mode), modeNames(modes)))
		}
	}
	return errors.Join(errs...)
}

// modeName is a mode as a message names it.
func modeName(mode string) string {
	if mode == serveCommand {
		return "the server"
	}
	return mode
}

func modeNames(modes []string) string {
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = modeName(m)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
