import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// `npm run dev` proxies the API to a server started with --http-listen 127.0.0.1:8080.
export default defineConfig({
  plugins: [vue()],
  build: { chunkSizeWarningLimit: 1500, sourcemap: false },
  server: { proxy: { "/xinfang.v1.": "http://127.0.0.1:8080" } },
});
