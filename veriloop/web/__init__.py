"""`veriloop ui`: a local web view of design, evolve and bench runs, read live while they go.

    from veriloop.web.server import build_app, serve
    app = build_app(data_dir, token=None)   # a Starlette app: JSON under /api, one page at /
    serve(app, host="127.0.0.1", port=8765) # binding beyond loopback needs a token

`data.py` reads runs through veriloop's own readers (run registry, program database, bench results
store, design checkpoints) into plain JSON; `server.py` owns the routes and the token check;
`static/` holds the page (plain JS and SVG, no CDN: every asset is served from here).
"""
