// Command etcd is the etcd server, built from its Go module because Debian's etcd is too old for the
// Kubernetes version the local control plane runs.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
