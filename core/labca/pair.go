package labca

import "github.com/nexolab/lab/core/sdk"

// ValidatePair checks the two attributes that name a user's own certificate and key:
// both or neither (the error names the one missing), and a pair that belongs together.
func ValidatePair(certAttr, certFile, keyAttr, keyFile string, d *sdk.Diagnostics) {
	switch {
	case certFile == "" && keyFile != "":
		d.Errorf(certAttr, "%s is set without %s: give both, or neither for the lab's own certificate", keyAttr, certAttr)
	case certFile != "" && keyFile == "":
		d.Errorf(keyAttr, "%s is set without %s: give both, or neither for the lab's own certificate", certAttr, keyAttr)
	case certFile != "":
		if _, _, err := ReadPair(certFile, keyFile); err != nil {
			d.Errorf(certAttr, "%v", err)
		}
	}
}
