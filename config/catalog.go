package config

// Regions are the Linode core regions that offer LKE. The spec's default is fr-par.
var Regions = []string{
	"ap-northeast", "ap-south", "ap-southeast", "ap-west", "au-mel", "br-gru", "ca-central", "de-fra-2", "es-mad",
	"eu-central", "eu-west", "fr-par", "gb-lon", "id-cgk", "in-bom-2", "in-maa", "it-mil", "jp-osa", "jp-tyo-3",
	"nl-ams", "se-sto", "sg-sin-2", "us-central", "us-east", "us-iad", "us-lax", "us-mia", "us-ord", "us-sea",
	"us-southeast", "us-west",
}

// BaselineNodeTypes are the Linode plans allowed for general-purpose node pools (shared and dedicated CPU).
var BaselineNodeTypes = []string{
	"g6-standard-2", "g6-standard-4", "g6-standard-6", "g6-standard-8", "g6-standard-16", "g6-standard-20",
	"g6-standard-24", "g6-standard-32",
	"g6-dedicated-4", "g6-dedicated-8", "g6-dedicated-16", "g6-dedicated-32", "g6-dedicated-48", "g6-dedicated-50",
	"g6-dedicated-56", "g6-dedicated-64",
}

// GPUNodeTypes are the RTX 6000 plans. The spec's "g1-gpu-rtx6000" is this family; the Linode API names each
// plan by its GPU count, so the default is the one-GPU plan g1-gpu-rtx6000-1.
var GPUNodeTypes = []string{"g1-gpu-rtx6000-1", "g1-gpu-rtx6000-2", "g1-gpu-rtx6000-3", "g1-gpu-rtx6000-4"}
