// Package display shows an output in the running GoNB cell, with a plain-text alternative, and
// prints that text instead outside a notebook. report's tables and plots' charts both show
// themselves through it.
package display

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// Stdout is where Show prints outside a notebook (tests replace it).
var Stdout io.Writer = os.Stdout

// Show displays rich (of MIME type mime: Markdown, PNG, ...) in the running GoNB cell, with text
// as the text/plain alternative, and waits until GoNB has received it. Outside a notebook it writes
// text to Stdout, ending with a newline; rich, a function, is then not called (a chart's PNG is not
// drawn).
func Show(mime protocol.MIMEType, rich func() (any, error), text string) error {
	if !gonbui.IsNotebook {
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		_, err := io.WriteString(Stdout, text)
		return err
	}
	data, err := rich()
	if err != nil {
		return err
	}
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{
		mime:                   data,
		protocol.MIMETextPlain: text,
	}})
	gonbui.Sync()
	if err := gonbui.Error(); err != nil {
		return fmt.Errorf("displaying in the notebook: %w", err)
	}
	return nil
}
