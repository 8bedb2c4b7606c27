# syntax=docker/dockerfile:1

# Tablekit API image: compiled in one stage, run from another that holds only the compiled code and
# the production dependencies (the embedded dev stack, PGlite and the emulators, is not in it).
#
#   docker build -t tablekit .
#   docker run --env-file production.env -p 3000:3000 tablekit
#   docker run --env-file production.env --rm tablekit node dist/src/cli/migrate.js   # the deploy step
#
# NODE_ENV is production unless the environment says otherwise, and production refuses to start
# without every real part configured (see README.md); the migrate CLI validates the same variables.

ARG NODE_VERSION=22

# ---- build: all dependencies, TypeScript → dist/ ----------------------------------------------
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: compiling needs none (tsc is plain JavaScript), and one dependency's
# postinstall only reports telemetry.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY seeds ./seeds
# rootDir is the project root, so src/main.ts → dist/src/main.js, migrations/ → dist/migrations/.
RUN npm run build

# ---- runtime: production dependencies and dist/, as an unprivileged user ------------------------
FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
# How node runs the service: the same as ecosystem.config.js's nodeRuntimeEnv (README.md, "Memory").
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=128" \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# `node` (uid 1000) comes with the official image; the code stays root-owned and read-only to it.
USER node
EXPOSE 3000
# Liveness, asked of node itself: the slim image has no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(2000) }).then((response) => process.exit(response.status === 200 ? 0 : 1), () => process.exit(1))"]
# node directly, not npm: SIGTERM reaches the service, which stops taking requests and drains. Its
# argument is ecosystem.config.js's nodeRuntimeArgs (README.md, "Memory").
CMD ["node", "--gc-memory-reducer-start-delay-ms=2000", "dist/src/main.js"]
