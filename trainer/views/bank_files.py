"""(being written)"""
from flask import Blueprint

bp = Blueprint("bank_files", __name__)
