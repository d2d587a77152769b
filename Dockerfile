# provisionerd: a small, non-root image for external provisioner daemons and tagged pools.
#
# Terraform is copied from an image (or a directory) chosen at build time; nothing is downloaded
# when the container runs. Examples:
#   docker build -t provisionerd .
#   docker build --build-arg TERRAFORM_IMAGE=registry.internal/hashicorp/terraform:1.11.4 -t provisionerd .
#   # a terraform binary from the build machine: put it at ./vendor/terraform/bin/terraform
#   docker build --build-context terraform=./vendor/terraform -t provisionerd .
# Air-gapped hosts: put a Terraform filesystem mirror into deploy/provider-mirror/ (see
# `terraform providers mirror`) and run with CODER_PROVISIONERD_PROVIDER_MIRROR=/opt/provisionerd/provider-mirror.

ARG NODE_IMAGE=node:20-alpine
ARG TERRAFORM_IMAGE=hashicorp/terraform:1.11.4

FROM ${TERRAFORM_IMAGE} AS terraform

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY test/fixtures/coder-provider ./test/fixtures/coder-provider
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf dist/test

FROM ${NODE_IMAGE}
# tini reaps the orphans terraform providers can leave and forwards signals to node (PID 1 would
# otherwise ignore the default actions); `apk` runs at build time only.
RUN apk add --no-cache tini \
 && mkdir -p /opt/provisionerd /work /cache \
 && chown node:node /work /cache
COPY --from=terraform /bin/terraform /usr/local/bin/terraform
WORKDIR /opt/provisionerd
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY deploy/provider-mirror ./provider-mirror
RUN ln -s /opt/provisionerd/dist/src/cli/main.js /usr/local/bin/provisionerd \
 && chmod 0755 /opt/provisionerd/dist/src/cli/main.js \
 && terraform version

ENV NODE_ENV=production \
    CHECKPOINT_DISABLE=1 \
    CODER_CACHE_DIRECTORY=/cache \
    CODER_PROVISIONERD_WORK_DIR=/work \
    CODER_PROVISIONERD_LOG_FORMAT=json
# The node image's unprivileged user (uid 1000), as in Coder's provisioner chart.
USER 1000:1000
EXPOSE 2112
ENTRYPOINT ["/sbin/tini", "--", "provisionerd"]
CMD ["start"]
