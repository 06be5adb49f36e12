// Round-robin arbiter for {{N}} requesters, {{RESET_DESC}}.
module rr_arbiter #(
    parameter N = {{N}},
    parameter PW = $clog2(N)
) (
    input  wire         clk,
    input  wire         {{RST}},
    input  wire [N-1:0] req,
    output reg  [N-1:0] grant
);
    localparam [31:0] LAST32 = N - 1;
    localparam [PW-1:0] LAST = LAST32[PW-1:0];

    reg [PW-1:0] ptr;
    reg [PW-1:0] idx, winner;
    reg          found;
    integer k;

    always @* begin
        grant  = {N{1'b0}};
        found  = 1'b0;
        winner = {PW{1'b0}};
        idx    = ptr;
        for (k = 0; k < N; k = k + 1) begin
            if (!found && req[idx]) begin
                found  = 1'b1;
                winner = idx;
            end
            idx = (idx == LAST) ? {PW{1'b0}} : idx + 1'b1;
        end
        if (found) grant[winner] = 1'b1;
    end

    {{ALWAYS_FF}} begin
        if ({{RST_ON}})  ptr <= {PW{1'b0}};
        else if (found) ptr <= (winner == LAST) ? {PW{1'b0}} : winner + 1'b1;
    end
endmodule
