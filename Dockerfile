# The teacherlm-stream pipeline. Models are not baked in: mount them at /app/models
# (docker-compose.yml does), made on the host with `teacherlm model import`.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
# Everything needed to build; .dockerignore keeps node_modules, .cache, dist and models out.
COPY . .
# npm ci runs `prepare` (tsc) with the dev dependencies, then they are dropped.
# .npmrc has onnxruntime-node-install=skip: the CUDA download is not wanted in this CPU image.
RUN npm ci && npm prune --omit=dev && npm cache clean --force
USER node
ENTRYPOINT ["node", "bin/teacherlm.js"]
CMD ["run", "--topology", "topologies/default.yaml"]
