/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'The module graph is one-way (DESIGN.md, "The second release"): no two folders under src/ may depend on each other.',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      comment: 'No file may depend on itself through others.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-foreign-repo',
      severity: 'error',
      comment: "A module's repo.ts is private to it (STYLE.md habit 14): others call its service.",
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/[^/]*repo\\.ts$', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'no-foreign-repo-outside-modules',
      severity: 'error',
      comment: 'Code outside src/modules reaches a module through its service, never its repo.ts.',
      from: { path: '^src/', pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/[^/]*repo\\.ts$' },
    },
    {
      name: 'no-http-below-routes',
      severity: 'error',
      comment: 'Services, repos and src/lib know nothing of HTTP; only routes.ts files (and route-only helpers named *-http.ts) may import src/http.',
      from: { path: '^src/(modules|lib)/', pathNot: '(^|/)([^/]*routes|[^/]*schemas|[^/]*-http)\\.ts$' },
      to: { path: '^src/http/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
