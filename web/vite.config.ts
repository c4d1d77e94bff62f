import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";

// Element Plus components (and their CSS) are imported where a template uses
// them, so the sign-in page loads only what it shows; each route is its own
// chunk (src/router.ts) and ECharts comes only with the statistics page.
// `npm run dev` proxies the API to a server started with --http-listen 127.0.0.1:8080.
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: "css" })], dts: false })],
  build: { sourcemap: false },
  server: { proxy: { "/xinfang.v1.": "http://127.0.0.1:8080" } },
});
