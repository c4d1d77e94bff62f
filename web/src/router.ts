import { createRouter, createWebHistory } from "vue-router";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", redirect: "/queue" },
    { path: "/signin", component: () => import("./views/SignIn.vue") },
    // The petitioner's page: public, phone-sized first.
    { path: "/status", component: () => import("./views/Status.vue") },
    { path: "/desk", component: () => import("./views/Desk.vue") },
    { path: "/queue", component: () => import("./views/Queue.vue") },
    { path: "/case/:tracking", component: () => import("./views/CasePage.vue"), props: true },
    // A written document to print or save: /document?number=<文号> (a query, as a
    // 文号 may hold characters a path would not).
    { path: "/document", component: () => import("./views/DocumentView.vue") },
    { path: "/board", component: () => import("./views/Board.vue") },
    { path: "/stats", component: () => import("./views/Stats.vue") },
    { path: "/report", component: () => import("./views/Report.vue") },
    { path: "/admin", component: () => import("./views/Admin.vue") },
  ],
});
