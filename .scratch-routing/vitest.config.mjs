export default { test: { include: [".scratch-routing/*.test.ts"], pool: "forks" } };
