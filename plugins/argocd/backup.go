package argocd

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/helmstack"
)

// backupSets are the objects that make Argo CD's state, one file per kind, in restore
// order: configuration and credentials, then projects, then what refers to them. Argo CD
// keeps no other data: its redis is a cache and it has no volume.
var backupSets = []helmstack.ObjectSet{
	{File: "configmaps.yaml", Kind: "ConfigMap", GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		Names: []string{"argocd-cm", "argocd-cmd-params-cm", "argocd-rbac-cm", "argocd-ssh-known-hosts-cm",
			"argocd-tls-certs-cm", "argocd-gpg-keys-cm", "argocd-notifications-cm", "argocd-styles-cm", "argocd-cmp-cm"}},
	{File: "repository-secrets.yaml", Kind: "Secret", GVR: schema.GroupVersionResource{Version: "v1", Resource: "secrets"},
		Selector: secretTypeLabel + " in (repository,repo-creds,repository-write,repo-write-creds,cluster)"},
	{File: "appprojects.yaml", Kind: "AppProject", GVR: appProjectsGVR},
	{File: "applicationsets.yaml", Kind: "ApplicationSet", GVR: applicationSetsGVR},
	{File: "applications.yaml", Kind: "Application", GVR: applicationsGVR},
}
