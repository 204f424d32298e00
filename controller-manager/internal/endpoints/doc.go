// Package endpoints is the Endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// matching pods' IPs (ready ones under addresses, the others under
// notReadyAddresses) with the Service's ports resolved against each pod,
// named targetPorts included.
package endpoints
