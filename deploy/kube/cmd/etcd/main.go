// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 at the version
// this module's kube-apiserver is built with, so `make k8s-check` needs no etcd from
// anywhere but the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
