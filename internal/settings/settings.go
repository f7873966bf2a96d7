// Package settings parses cifarlab's settings from environment variables, so that every program
// and package reads a switch such as CIFARLAB_QUICK or CIFARLAB_RETRAIN the same way.
package settings

import (
	"fmt"
	"os"
	"strings"
)

// ParseBool parses the value of the boolean setting name. It accepts 1, true, yes and on for
// true and 0, false, no and off for false, in any case and with surrounding spaces; an empty
// value is false (the setting is not given). Anything else is an error naming the setting and
// the value, so that a typo never silently picks one of the two.
func ParseBool(name, value string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q is not a boolean setting: use 1, true, yes or on to turn it on, 0, false, no or off (or nothing) to turn it off", name, value)
}

// Bool reads the boolean setting name from the environment with ParseBool.
func Bool(name string) (bool, error) {
	return ParseBool(name, os.Getenv(name))
}
