console.error("k8ts-node-agent: being built"); process.exit(1);
