module github.com/asana-exporter/asana_exporter

go 1.26.0

require golang.org/x/time v0.16.0

require github.com/getkin/kin-openapi v0.152.0 // indirect
