# The database tier of the scale-out deployment (docker/compose.scale-out.yaml,
# docs/ha.md), from Debian bookworm's packages: two targets.
#
#   etcd     etcd-server 3.4: the store Patroni keeps the leader lock in.
#   patroni  postgresql-15 + patroni 3.0.2: one PostgreSQL node managed by
#            Patroni (docker/patroni.yml; per-node values come from
#            PATRONI_* environment variables set in the compose file).
#
#   docker build -f docker/patroni.Dockerfile --target patroni -t courier-patroni .
#   docker build -f docker/patroni.Dockerfile --target etcd -t courier-etcd .
ARG BASE=debian:bookworm

# ---- etcd -------------------------------------------------------------------
FROM ${BASE} AS etcd
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o etcd -g etcd -m 0700 /var/lib/etcd/data
VOLUME /var/lib/etcd/data
USER etcd
EXPOSE 2379 2380
# The compose file passes the member's flags (names, URLs, cluster).
ENTRYPOINT ["/usr/bin/etcd", "--data-dir=/var/lib/etcd/data"]

# ---- patroni ----------------------------------------------------------------
FROM ${BASE} AS patroni
# No "15 main" cluster from postgresql-common: Patroni makes its own.
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postgresql-15 patroni \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/patroni
COPY docker/patroni.yml /etc/patroni/patroni.yml
COPY docker/patroni-post-bootstrap.sh /usr/local/bin/courier-post-bootstrap
RUN chmod 0755 /usr/local/bin/courier-post-bootstrap
VOLUME /var/lib/postgresql/patroni
# PostgreSQL refuses to run as root.
USER postgres
EXPOSE 5432 8008
HEALTHCHECK --interval=5s --timeout=3s --retries=3 \
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8008/health', timeout=2)"
ENTRYPOINT ["/usr/bin/patroni", "/etc/patroni/patroni.yml"]
