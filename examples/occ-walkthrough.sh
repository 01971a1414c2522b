#!/bin/sh
# The OCC reference scenario over RESTCONF with curl: configure, activate,
# loop back, take an interface down, read the state, compute an SLA report,
# suspend, terminate. Against `occd serve -c examples/occ-demo.toml`:
#
#   examples/occ-walkthrough.sh [BASE-URL [PASSWORD]]
#
# (defaults https://127.0.0.1:8443 and demo; -k: the certificate is
# self-signed). Each command is one curl; run them by hand to follow along.
set -eu
cd "$(dirname "$0")/.."
BASE=${1:-https://127.0.0.1:8443}
PW=${2:-demo}
rc() { # METHOD PATH [JSON]
    if [ $# -gt 2 ]; then
        curl -sSk -u "admin:$PW" -X "$1" -H 'Content-Type: application/yang-data+json' \
            -H 'Accept: application/yang-data+json' "$BASE$2" -d "$3"
    else
        curl -sSk -u "admin:$PW" -X "$1" -H 'Accept: application/yang-data+json' "$BASE$2"
    fi
    echo
}

echo "1. configure the reference scenario; start the SLM session now"
curl -sSk -u "admin:$PW" -X PATCH -H 'Content-Type: application/yang-data+json' \
    "$BASE/restconf/data" --data-binary @yang/occ/examples/scenario.json
rc PUT /restconf/data/occ-oam:oam/pm-session=pm-slm-1-2/schedule \
    '{"occ-oam:schedule":{"start-now":[null],"run-forever":[null]}}'
rc GET '/restconf/data/occ-services:cloud-services/service=svc-iaas-01/state'

echo "2. activate svc-iaas-01"
rc POST /restconf/operations/occ-services:activate-cloud-service '{"occ-services:input":{"service-id":"svc-iaas-01"}}'
rc GET '/restconf/data/occ-connections:connections/csc=csc-001/state'

echo "3. loopback from MEP 1 to MEP 2"
rc POST /restconf/data/occ-oam:oam/meg=meg-csc-001/mep=1/loopback '{"occ-oam:input":{"remote-mep-id":2,"count":10}}'

echo "   let a few PM intervals close in service (5 s each in the demo config)"
sleep 11

echo "4. take csui-acme-vm17 down"
rc PATCH /restconf/data/occ-interfaces:interfaces/interface=csui-acme-vm17 \
    '{"occ-interfaces:interface":[{"name":"csui-acme-vm17","admin-state":"locked"}]}'

echo "5. read the state"
rc GET '/restconf/data/occ-interfaces:interfaces/interface=csui-acme-vm17/state/oper-status'
rc GET '/restconf/data/occ-connections:connections/csc=csc-001/state'
rc GET '/restconf/data/occ-services:cloud-services/service=svc-iaas-01/state/oper-status'
rc POST /restconf/data/occ-oam:oam/meg=meg-csc-001/mep=1/loopback '{"occ-oam:input":{"remote-mep-id":2,"count":5}}'

echo "6. after a PM interval with the cSC down (5 s in the demo config): the SLA report"
sleep 11
rc POST /restconf/operations/occ-oam:compute-sla-report \
    '{"occ-oam:input":{"service-id":"svc-iaas-01","from":"2020-01-01T00:00:00Z","to":"2100-01-01T00:00:00Z"}}'
rc POST /restconf/operations/occ-oam:compute-sla-report \
    '{"occ-oam:input":{"service-id":"svc-iaas-01","from":"2020-01-01T00:00:00Z","to":"2020-01-02T00:00:00Z"}}'

echo "7. bring csui-acme-vm17 back, suspend, terminate"
rc PATCH /restconf/data/occ-interfaces:interfaces/interface=csui-acme-vm17 \
    '{"occ-interfaces:interface":[{"name":"csui-acme-vm17","admin-state":"unlocked"}]}'
rc POST /restconf/operations/occ-services:deactivate-cloud-service '{"occ-services:input":{"service-id":"svc-iaas-01","mode":"suspend"}}'
rc POST /restconf/operations/occ-services:deactivate-cloud-service '{"occ-services:input":{"service-id":"svc-iaas-01","mode":"terminate"}}'

echo "8. activating a terminated service is refused"
rc POST /restconf/operations/occ-services:activate-cloud-service '{"occ-services:input":{"service-id":"svc-iaas-01"}}'
