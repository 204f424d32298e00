# gantry/kube-proxy: the kube-proxy binary, the health probe, and this
# machine's own iptables (the binary its `iptables` resolves to, the xtables
# extensions and the shared libraries they load), copied by
# hack/compose/build-images.sh. Taking the host's iptables keeps the image on
# the same backend (nf_tables or legacy) as the rules Docker writes.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/sbin:/sbin:/usr/bin
ENTRYPOINT ["/usr/local/bin/kube-proxy"]
