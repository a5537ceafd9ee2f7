package gitops

import (
	"fmt"
	"strings"

	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

// workflow is the CI of the repository: on a push to main it tests both applications,
// builds their images, pushes them to Harbor with the robot account (secrets
// HARBOR_ROBOT_USER and HARBOR_ROBOT_TOKEN) and commits the new tag into the first
// environment's values, which Argo CD then syncs. Promotion to the other environments
// is a commit of the same tag into their values files.
func workflow(registry string, envs []charts.Env) string {
	host, _, _ := strings.Cut(registry, "/")
	first := envs[0].Slot
	return fmt.Sprintf(`name: ci
on:
  push:
    branches: [main]
    paths: ["nexo-fe/**", "nexo-be/**"]
  pull_request:
permissions:
  contents: write
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        app: [nexo-fe, nexo-be]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          cache: npm
          cache-dependency-path: ${{ matrix.app }}/package-lock.json
      - run: npm ci
        working-directory: ${{ matrix.app }}
      - run: npm test
        working-directory: ${{ matrix.app }}
  release:
    if: github.event_name == 'push'
    needs: test
    runs-on: ubuntu-latest
    strategy:
      max-parallel: 1
      matrix:
        app: [nexo-fe, nexo-be]
    env:
      REGISTRY: %[1]s
      TAG: ${{ github.sha }}
    steps:
      - uses: actions/checkout@v4
        with:
          ref: main
      - name: Log in to Harbor with the robot account
        run: echo "${{ secrets.HARBOR_ROBOT_TOKEN }}" | docker login %[2]s -u "${{ secrets.HARBOR_ROBOT_USER }}" --password-stdin
      - name: Build and push
        run: |
          docker build -t "$REGISTRY/${{ matrix.app }}:$TAG" ${{ matrix.app }}
          docker push "$REGISTRY/${{ matrix.app }}:$TAG"
      - name: Commit the new tag for %[3]s
        run: |
          file=apps/${{ matrix.app }}/values-%[3]s.yaml
          sed -i "s/^  tag: .*/  tag: \"$TAG\"/" "$file"
          git config user.name "nexo-ci"
          git config user.email "ci@%[2]s"
          git commit -am "${{ matrix.app }}: %[3]s runs $TAG"
          git pull --rebase origin main
          git push origin HEAD:main
`, registry, host, first)
}

func readme(o Options, envs []charts.Env) string {
	var rows []string
	for _, e := range envs {
		rows = append(rows, fmt.Sprintf("| %s | %s | nexo-fe-%s, nexo-be-%s | http://%s, http://%s |",
			e.Name, e.Namespace, e.Slot, e.Slot, e.FEHost(o.Domain), e.APIHost(o.Domain)))
	}
	return fmt.Sprintf(`# Nexo deployment repository

Argo CD (the lab's argocd stack) syncs each application of each environment from here:
the Application `+"`<app>-<slot>`"+` renders `+"`apps/<app>`"+` with `+"`values-<slot>.yaml`"+`.

| environment | namespace | Applications | hosts |
|---|---|---|---|
%s

Keycloak (`+"`apps/nexo-auth`"+`, Application nexo-auth-local) and PostgreSQL and Redis
(`+"`local/helm`"+`, installed by lab itself) serve every environment from namespace %s.
Passwords are never in this repository: lab generates them into Kubernetes Secrets.

CI (`+"`.github/workflows/ci.yml`"+`) tests and builds both applications, pushes the images to
%s with the Harbor robot account (repository secrets HARBOR_ROBOT_USER and
HARBOR_ROBOT_TOKEN) and commits the new tag into the first environment's values.
`, strings.Join(rows, "\n"), charts.DataNamespace, o.Registry)
}
