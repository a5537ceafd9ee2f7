package nexoapps

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeTheme(t *testing.T, dir string) {
	for p, body := range map[string]string{
		"login/theme.properties":                "parent=keycloak.v2\nstyles=css/nexo.css\n",
		"login/resources/css/nexo.css":          "body { background: #0b2545; }\n",
		"login/messages/messages_en.properties": "loginTitle=Nexo\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644))
	}
}
