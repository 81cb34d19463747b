import { build } from 'esbuild';
const [entry, pkg] = process.argv.slice(2);
const r = await build({ entryPoints:[entry], bundle:true, minify:true, format:'cjs', platform:'node', target:'node24', mainFields:['module','main'], write:false, metafile:true, outfile:'/tmp/o.js', logLevel:'silent', alias:{'@aws-sdk/credential-provider-node':'./env-creds-tmp.mjs'} });
const out = Object.values(r.metafile.outputs).find(o=>o.entryPoint);
const rows = Object.entries(out.inputs).filter(([f])=>f.includes(pkg)).sort((a,b)=>b[1].bytesInOutput-a[1].bytesInOutput).slice(0,25);
for (const [f,v] of rows) console.log((v.bytesInOutput/1024).toFixed(1).padStart(7), f);
