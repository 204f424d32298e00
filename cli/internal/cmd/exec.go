package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/gantryhq/gantry/client/podexec"
)

// exitError makes gantry exit with a command's exit code (saying so on
// stderr unless silent).
type exitError struct {
	code   int
	silent bool
}

func (e *exitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.code)
}

func newExecCommand(f *Factory) *cobra.Command {
	var container string
	var stdin, tty, quiet bool
	c := &cobra.Command{
		Use:               "exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]",
		ValidArgsFunction: completeNamesOf(f, "pods"),
		Short:             "Execute a command in a container",
		Example: `  # Get output from running the 'date' command from pod mypod, using the first container by default
  gantry exec mypod -- date

  # Switch to raw terminal mode; sends stdin to 'bash' in ruby-container from pod mypod
  gantry exec mypod -c ruby-container -i -t -- bash -il`,
		RunE: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			if dash < 0 && len(args) > 1 {
				return fmt.Errorf("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead")
			}
			if len(args) < 2 || dash != 1 {
				return usage(c, "you must specify at least one command for the container")
			}
			ctx := c.Context()
			cs, ns, _, err := f.ClientIn()
			if err != nil {
				return err
			}
			pod, err := resolvePod(ctx, f, cs, ns, args[0])
			if err != nil {
				return err
			}
			if container == "" {
				container = defaultContainer(f, pod)
			}
			o := podexec.ExecOptions{Namespace: pod.GetMetadata().GetNamespace(), Name: pod.GetMetadata().GetName(),
				Container: container, Command: args[1:], Stdout: f.Out, Stderr: f.ErrOut}
			if stdin {
				o.Stdin = f.In
			}
			if tty {
				in, ok := f.In.(*os.File)
				if !ok || !stdin || !isTerminal(in) {
					if !quiet {
						fmt.Fprintln(f.ErrOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
					}
				} else {
					restore, err := makeRaw(in)
					if err != nil {
						return err
					}
					defer restore()
					o.TTY = true
					o.Stderr = nil // a TTY merges stderr into stdout
				}
			}
			code, err := podexec.Exec(ctx, cs.Conn(), o)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&container, "container", "c", "", "Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen")
	c.Flags().BoolVarP(&stdin, "stdin", "i", false, "Pass stdin to the container")
	c.Flags().BoolVarP(&tty, "tty", "t", false, "Stdin is a TTY")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only print output from the remote session")
	return c
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// makeRaw puts the terminal in raw mode and returns how to restore it.
func makeRaw(f *os.File) (func(), error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
