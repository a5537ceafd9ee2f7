package nexoapps

import (
	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

func embedded(s *session, name string) helm.Chart {
	dir, _ := s.Values["charts"].(string)
	return helm.Chart{Repository: dir, Name: name, Version: charts.Version}
}

func site(s *session) charts.Site {
	return charts.Site{Domain: s.Req.Lab.Domain, Registry: s.Config.registry(s.Req.Lab.Domain)}
}

// dataReleases are the shared services, always installed with Helm.
func dataReleases(s *session) []helm.Release {
	cfg := s.Config
	return []helm.Release{
		{Name: "postgres", Namespace: dataNamespace, Chart: embedded(s, "postgres"), Values: charts.PostgresValues(cfg.StorageClass, cfg.DatabaseSize)},
		{Name: "redis", Namespace: dataNamespace, Chart: embedded(s, "redis"), Values: charts.RedisValues(cfg.StorageClass, cfg.RedisSize)},
	}
}

// appReleases are the applications: Keycloak once, nexo-fe and nexo-be per environment.
func appReleases(s *session) []helm.Release {
	envs := environments(s.Config)
	files, _ := s.Values["themeFiles"].([]any)
	st := site(s)
	rels := []helm.Release{{Name: "nexo-auth-local", Namespace: dataNamespace, Chart: embedded(s, "nexo-auth"), Values: st.AuthValues(envs, files)}}
	for _, e := range envs {
		rels = append(rels,
			helm.Release{Name: "nexo-fe-" + e.Slot, Namespace: e.Namespace, Chart: embedded(s, "nexo-fe"), Values: st.FEValues(e)},
			helm.Release{Name: "nexo-be-" + e.Slot, Namespace: e.Namespace, Chart: embedded(s, "nexo-be"), Values: st.BEValues(e)})
	}
	return rels
}
