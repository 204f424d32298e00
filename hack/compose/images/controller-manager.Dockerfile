# gantry/controller-manager: the controller-manager binary and the health probe, FROM scratch.
# Built by hack/compose/build-images.sh from a staging folder holding both.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/controller-manager"]
