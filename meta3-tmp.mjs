import { build } from 'esbuild';
const [entry] = process.argv.slice(2);
const r = await build({ entryPoints:[entry], bundle:true, minify:true, format:'cjs', platform:'node', target:'node24', mainFields:['module','main'], write:false, metafile:true, outfile:'/tmp/o.js', logLevel:'silent', alias:{'@aws-sdk/credential-provider-node':'./env-creds-tmp.mjs'} });
const out = Object.values(r.metafile.outputs).find(o=>o.entryPoint);
const byPkg = {};
for (const [f,v] of Object.entries(out.inputs)) {
  const m = f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:dist-es\/)?(submodules\/[^/]+)?/); const k = m?m[1]+(m[2]?'/'+m[2]:''):f.split('/').slice(0,2).join('/');
  byPkg[k]=(byPkg[k]||0)+v.bytesInOutput;
}
console.log('total', (out.bytes/1024).toFixed(1));
for (const [k,v] of Object.entries(byPkg).sort((a,b)=>b[1]-a[1]).slice(0,40)) console.log((v/1024).toFixed(1).padStart(7), k);
