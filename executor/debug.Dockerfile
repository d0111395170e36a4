# The kb executor's :debug variant, like Kaniko's: the same image plus a static busybox under /busybox on PATH,
# for CI systems that run `script:` through a shell (GitLab's Kaniko template calls /kaniko/executor from sh).
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/kaniko:/busybox \
    HOME=/root \
    USER=root \
    DOCKER_CONFIG=/kaniko/.docker/ \
    SSL_CERT_FILE=/kaniko/ssl/certs/ca-certificates.crt \
    KB_CACHE_DIR=/kaniko/cache
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]
LABEL org.opencontainers.image.title="kb executor (debug: busybox shell)" \
      org.opencontainers.image.description="Daemonless, rootless OCI image builder (Kaniko-compatible flags)"
