# A real Kubernetes control plane, built from source, that the chart is installed into:
#   kubernetes   builds etcd and kube-apiserver from the Go module proxy (deploy/kube pins
#                them; cached under ~/.cache/reelmail/, 5-20 minutes on 2 cores, once);
#   k8s-check    starts them on loopback, installs the CRDs, then installs, upgrades, rolls
#                back and uninstalls the chart with every values scenario, in namespaces
#                under Pod Security "restricted".
# Not part of `make test`: the first build alone would take most of its time budget.

.PHONY: kubernetes k8s-check

kubernetes: ## build etcd and kube-apiserver from source into ~/.cache/reelmail (cached)
	scripts/build-kubernetes.sh

k8s-check: sync $(HELM) ## install, upgrade, roll back and uninstall the chart on a real kube-apiserver
	@binaries="$$(scripts/build-kubernetes.sh | tail -n 1)"; \
	  REELMAIL_KUBERNETES="$$binaries" $(PYTEST) tests/deploy/kubernetes -q
