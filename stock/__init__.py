"""The bank's inventory: lots (banked expansions of a line), vials, where each vial
is stored, and the availability of a line derived from them."""
