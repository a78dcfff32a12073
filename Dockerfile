# syntax=docker/dockerfile:1
# One image for every process: the CMD runs everything (npm start); docker-compose.yml runs
# the server and each worker group from the same image with a different command.

# --- build: dev dependencies and the TypeScript compiler, thrown away afterwards ---
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` refuses a lock file naming optional platform packages the registry lacks
# (msgpackr-extract's builds); `npm install` honours the same lock file.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build

# --- runtime: production dependencies and the compiled output only ---
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN (npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund) \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# The base image's unprivileged user: a compromised process cannot rewrite the app.
USER node
EXPOSE 3000
# No curl in slim images: Node's own fetch probes liveness. Worker-only containers have no
# HTTP server; docker-compose.yml disables the check for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Exec form: node is PID 1 and receives SIGTERM itself, so shutdown drains active jobs.
CMD ["node", "dist/workers/start.js"]
